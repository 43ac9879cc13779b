/** Who is on the other end of a loopback connection (client/peer-user.ts): the kernel table's format, and a live connection. */
import { createConnection, createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { ownerOf, peerIsSameUser, tableKeys } from "../../../client/peer-user.ts";

const TABLE = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1001        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
`;

describe("the kernel's socket table", () => {
  it("writes addresses as the table does: IPv4 words little-endian, ports big-endian hex", () => {
    expect(tableKeys("127.0.0.1", 8080)).toEqual(["0100007F:1F90", "0000000000000000FFFF00000100007F:1F90"]);
    expect(tableKeys("::ffff:127.0.0.2", 22)).toContain("0200007F:0016");
    expect(tableKeys("::1", 22)).toEqual(["00000000000000000000000001000000:0016"]);
  });

  it("finds the owner of the peer's socket: local end = our remote end", () => {
    expect(ownerOf(TABLE, tableKeys("127.0.0.1", 0xd431), tableKeys("127.0.0.1", 0x1f90))).toBe(1001);
    expect(ownerOf(TABLE, tableKeys("127.0.0.1", 0x1f90), tableKeys("127.0.0.1", 0xd431))).toBe(0);
    expect(ownerOf(TABLE, tableKeys("127.0.0.1", 1), tableKeys("127.0.0.1", 2))).toBeNull();
  });

  it("admits a connection from this process's own user", async () => {
    const accepted = new Promise<Socket>((resolve) => {
      const server = createServer((socket) => {
        resolve(socket);
        server.close();
      });
      server.listen(0, "127.0.0.1", () => createConnection({ host: "127.0.0.1", port: (server.address() as { port: number }).port }).on("error", () => undefined));
    });
    const socket = await accepted;
    expect(await peerIsSameUser(socket)).toBe(true);
    socket.destroy();
  });
});
