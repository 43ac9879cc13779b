/**
 * A small real RFB (VNC) desktop for the `demo` launcher's sessions (demo-desktop.ts), spoken over
 * a WebSocket the way websockify hands one to noVNC: RFB 3.8, no authentication, raw encoding,
 * 32-bit true colour in the client's pixel format. It shows who it is for (node, user, session,
 * connection count, the time), paints where the pointer drags, prints what is typed, says when
 * Ctrl-Alt-Del arrives, shows text pasted from the client's clipboard and puts a greeting on it.
 * Nothing to install.
 */
import type { WebSocket } from "ws";
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from "./demo-font.ts";

export const DEMO_WIDTH = 800;
export const DEMO_HEIGHT = 480;
const KEY_CONTROL = [0xffe3, 0xffe4];
const KEY_ALT = [0xffe9, 0xffea];
const KEY_DELETE = 0xffff;

export interface DemoDesktopInfo {
  hostname: string;
  user: string;
  sessionId: string;
  connection: number;
}

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

class Screen {
  readonly pixels = new Uint32Array(DEMO_WIDTH * DEMO_HEIGHT);
  dirty: Rect | null = null;

  fill(x: number, y: number, w: number, h: number, rgb: number): void {
    const x0 = Math.max(0, x), y0 = Math.max(0, y), x1 = Math.min(DEMO_WIDTH, x + w), y1 = Math.min(DEMO_HEIGHT, y + h);
    if (x1 <= x0 || y1 <= y0) return;
    for (let row = y0; row < y1; row++) this.pixels.fill(rgb, row * DEMO_WIDTH + x0, row * DEMO_WIDTH + x1);
    this.touch({ x: x0, y: y0, w: x1 - x0, h: y1 - y0 });
  }

  text(x: number, y: number, text: string, scale: number, rgb: number, background: number): void {
    const advance = (GLYPH_WIDTH + 1) * scale;
    this.fill(x, y, text.length * advance, GLYPH_HEIGHT * scale, background);
    [...text].forEach((char, index) => {
      const bits = glyph(char);
      for (let i = 0; i < bits.length; i++) {
        if (bits[i] === "1") this.fill(x + index * advance + (i % GLYPH_WIDTH) * scale, y + Math.floor(i / GLYPH_WIDTH) * scale, scale, scale, rgb);
      }
    });
  }

  touch(rect: Rect): void {
    const d = this.dirty;
    if (!d) this.dirty = rect;
    else {
      const x = Math.min(d.x, rect.x), y = Math.min(d.y, rect.y);
      this.dirty = { x, y, w: Math.max(d.x + d.w, rect.x + rect.w) - x, h: Math.max(d.y + d.h, rect.y + rect.h) - y };
    }
  }
}

/** The client's pixel format (SetPixelFormat); only 32-bit true colour is served. */
interface PixelFormat {
  bigEndian: boolean;
  max: [number, number, number];
  shift: [number, number, number];
}

const DEFAULT_FORMAT: PixelFormat = { bigEndian: false, max: [255, 255, 255], shift: [16, 8, 0] };
/**
 * RFB is a byte stream, so an update may be cut anywhere between WebSocket messages (websockify
 * does too): a full screen (1.5 MB) goes out in pieces under every hop's message limit (the node
 * gateway's `maxMessageBytes` is 1 MiB by default).
 */
const MAX_MESSAGE_BYTES = 64 * 1024;
const BACKGROUND = 0x12324a;
const PANEL = 0x1d4e6f;

function encodeRect(screen: Screen, rect: Rect, format: PixelFormat): Buffer {
  const out = Buffer.alloc(12 + rect.w * rect.h * 4);
  out.writeUInt16BE(rect.x, 0);
  out.writeUInt16BE(rect.y, 2);
  out.writeUInt16BE(rect.w, 4);
  out.writeUInt16BE(rect.h, 6);
  out.writeInt32BE(0, 8);
  let offset = 12;
  for (let row = rect.y; row < rect.y + rect.h; row++) {
    for (let column = rect.x; column < rect.x + rect.w; column++) {
      const rgb = screen.pixels[row * DEMO_WIDTH + column] ?? 0;
      const channels = [(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255];
      let value = 0;
      for (let c = 0; c < 3; c++) value += Math.round(((channels[c] ?? 0) * format.max[c]!) / 255) * 2 ** format.shift[c]!;
      if (format.bigEndian) out.writeUInt32BE(value >>> 0, offset);
      else out.writeUInt32LE(value >>> 0, offset);
      offset += 4;
    }
  }
  return out;
}

/** Serves one RFB client on `socket` until it closes. */
export function serveDemoDesktop(socket: WebSocket, info: DemoDesktopInfo): void {
  const screen = new Screen();
  let format = DEFAULT_FORMAT;
  let phase: "version" | "security" | "init" | "normal" = "version";
  let pending = Buffer.alloc(0);
  let wanted: Rect | null = null;
  let typed = "";
  const down = new Set<number>();
  let lastPointer: { x: number; y: number } | null = null;

  const lines = () => [`NODE: ${info.hostname}`, `USER: ${info.user}`, `SESSION: ${info.sessionId}`, `CONNECTION: ${info.connection}`];
  screen.fill(0, 0, DEMO_WIDTH, DEMO_HEIGHT, BACKGROUND);
  screen.fill(0, 0, DEMO_WIDTH, 44, 0x0b1e2d);
  screen.text(16, 12, "EDGE SESSION BROKER: DEMO DESKTOP", 4, 0xf2cc60, 0x0b1e2d);
  screen.fill(16, 60, DEMO_WIDTH - 32, 150, PANEL);
  lines().forEach((line, index) => screen.text(32, 76 + index * 30, line.slice(0, 46), 4, 0xffffff, PANEL));
  screen.text(16, 224, "DRAG TO DRAW, TYPE TO WRITE:", 3, 0x9fd3f5, BACKGROUND);
  const status = (text: string, row: number) => screen.text(16, 400 + row * 24, text.slice(0, 64).padEnd(64), 3, 0xffffff, BACKGROUND);

  const flush = () => {
    const dirty = screen.dirty;
    if (!wanted || !dirty || socket.readyState !== socket.OPEN) return;
    const x = Math.max(dirty.x, wanted.x), y = Math.max(dirty.y, wanted.y);
    const w = Math.min(dirty.x + dirty.w, wanted.x + wanted.w) - x, h = Math.min(dirty.y + dirty.h, wanted.y + wanted.h) - y;
    screen.dirty = null;
    if (w <= 0 || h <= 0) return;
    wanted = null;
    const update = Buffer.concat([Buffer.from([0, 0, 0, 1]), encodeRect(screen, { x, y, w, h }, format)]);
    for (let offset = 0; offset < update.length; offset += MAX_MESSAGE_BYTES) socket.send(update.subarray(offset, offset + MAX_MESSAGE_BYTES));
  };
  const clock = setInterval(() => {
    status(`TIME: ${new Date().toISOString().slice(11, 19)} UTC`, 2);
    flush();
  }, 1000);
  socket.on("close", () => clearInterval(clock));

  const onMessage = (): boolean => {
    const take = (bytes: number): Buffer | null => {
      if (pending.length < bytes) return null;
      const head = pending.subarray(0, bytes);
      pending = pending.subarray(bytes);
      return head;
    };
    if (phase === "version") {
      if (!take(12)) return false;
      socket.send(Buffer.from([1, 1]));
      phase = "security";
    } else if (phase === "security") {
      if (!take(1)) return false;
      socket.send(Buffer.from([0, 0, 0, 0]));
      phase = "init";
    } else if (phase === "init") {
      if (!take(1)) return false;
      const name = Buffer.from(`demo desktop on ${info.hostname}`, "latin1");
      const init = Buffer.alloc(24);
      init.writeUInt16BE(DEMO_WIDTH, 0);
      init.writeUInt16BE(DEMO_HEIGHT, 2);
      Buffer.from([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]).copy(init, 4);
      init.writeUInt32BE(name.length, 20);
      socket.send(Buffer.concat([init, name]));
      const greeting = Buffer.from(`hello from the demo desktop on ${info.hostname}`, "latin1");
      const cut = Buffer.alloc(8);
      cut.writeUInt8(3, 0);
      cut.writeUInt32BE(greeting.length, 4);
      socket.send(Buffer.concat([cut, greeting]));
      phase = "normal";
    } else {
      const type = pending[0];
      const sizes: Record<number, number> = { 0: 20, 3: 10, 4: 8, 5: 6 };
      if (type === 2) {
        if (pending.length < 4) return false;
        const message = take(4 + 4 * pending.readUInt16BE(2));
        if (!message) return false;
      } else if (type === 6) {
        if (pending.length < 8) return false;
        const message = take(8 + pending.readUInt32BE(4));
        if (!message) return false;
        status(`CLIPBOARD: ${message.subarray(8).toString("latin1").replace(/\s+/g, " ")}`, 1);
      } else if (type !== undefined && sizes[type] !== undefined) {
        const message = take(sizes[type]);
        if (!message) return false;
        if (type === 0) {
          if (message[4] !== 32 || message[7] === 0) socket.close(1003, "the demo desktop serves 32-bit true colour only");
          format = { bigEndian: message[6] !== 0, max: [message.readUInt16BE(8), message.readUInt16BE(10), message.readUInt16BE(12)], shift: [message[14] ?? 16, message[15] ?? 8, message[16] ?? 0] };
        } else if (type === 3) {
          wanted = { x: message.readUInt16BE(2), y: message.readUInt16BE(4), w: message.readUInt16BE(6), h: message.readUInt16BE(8) };
          if (message[1] === 0) screen.touch(wanted);
        } else if (type === 4) {
          const key = message.readUInt32BE(4);
          if (message[1] === 0) down.delete(key);
          else {
            down.add(key);
            if (key === KEY_DELETE && KEY_CONTROL.some((k) => down.has(k)) && KEY_ALT.some((k) => down.has(k))) status(`CTRL-ALT-DEL RECEIVED AT ${new Date().toISOString().slice(11, 19)}`, 0);
            else if (key >= 0x20 && key < 0x7f) typed = `${typed}${String.fromCharCode(key)}`.slice(-60);
            else if (key === 0xff08) typed = typed.slice(0, -1);
            screen.text(16, 250, typed.padEnd(60), 3, 0xffffff, BACKGROUND);
          }
        } else {
          const [mask, x, y] = [message[1] ?? 0, message.readUInt16BE(2), message.readUInt16BE(4)];
          if (mask & 1 && y > 275 && y < 390) {
            const from = lastPointer ?? { x, y };
            const steps = Math.max(1, Math.ceil(Math.hypot(x - from.x, y - from.y) / 3));
            for (let i = 0; i <= steps; i++) screen.fill(Math.round(from.x + ((x - from.x) * i) / steps) - 3, Math.round(from.y + ((y - from.y) * i) / steps) - 3, 6, 6, 0xf2cc60);
          }
          lastPointer = mask & 1 ? { x, y } : null;
        }
      } else {
        socket.close(1003, `unknown RFB message type ${String(type)}`);
        return false;
      }
    }
    return pending.length > 0;
  };

  socket.on("message", (data: Buffer) => {
    pending = Buffer.concat([pending, data]);
    while (onMessage());
    flush();
  });
  socket.send(Buffer.from("RFB 003.008\n", "latin1"));
}
