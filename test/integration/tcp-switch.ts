/**
 * A loopback TCP forwarder in front of the broker that a test can cut (every connection dropped,
 * the port closed), restore, or drop (every connection dropped, the port still open: what agents
 * see when the broker's object restarts but the Worker stays up).
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export class TcpSwitch {
  readonly port: number;
  readonly #target: number;
  readonly #sockets = new Set<Socket>();
  #server: Server | null = null;

  constructor(port: number, target: number) {
    this.port = port;
    this.#target = target;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async restore(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.#target, "127.0.0.1");
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on("close", () => this.#sockets.delete(socket));
        socket.on("error", () => undefined);
      }
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.#server = server;
  }

  /** Drops every open connection; new ones are still forwarded. */
  drop(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    this.drop();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
