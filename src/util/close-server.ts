// Closing a server the way a stopped process would: stop listening and cut every
// connection now. `server.closeAllConnections()` alone misses two kinds of socket that
// would keep `close` waiting: upgraded ones (exec, attach, port-forward, log follows) and,
// on a TLS server, ones still in their handshake (tracked by HTTP only once it completes;
// Node lets a handshake take up to 120 s).
import type { Server, Socket } from 'node:net';

/** Tracks every TCP connection of `server` from now on; the returned function closes the server and destroys them all. */
export function closerFor(server: Server): () => Promise<void> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return () => new Promise<void>((resolve) => {
    if (!server.listening) { for (const s of sockets) s.destroy(); resolve(); return; }
    server.close(() => resolve());
    for (const s of sockets) s.destroy();
  });
}
