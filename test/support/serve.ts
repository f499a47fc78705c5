/** Serves the gateway (or an express app) on a free loopback port, for suites that drive it over real HTTP. */
import { createServer, type RequestListener, type Server } from 'node:http';

/** Listens on 127.0.0.1 and a free port; returns the server and its base URL. */
export async function serveOnLoopback(app: RequestListener): Promise<{ server: Server; base: string }> {
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return { server, base: `http://127.0.0.1:${addr.port}` };
}
