import { createSocket, type Socket } from 'node:dgram';
import { readdir, readFile, readlink } from 'node:fs/promises';

/** RTP on `rtpPort`, RTCP on `rtpPort + 1`: ffmpeg's SDP input always takes RTCP on the next port. */
export interface PortPair {
  rtpPort: number;
  rtcpPort: number;
}

const bindUdp = (port: number): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    socket.bind(port, '127.0.0.1', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });

/**
 * Hands out loopback UDP port pairs for ffmpeg to listen on. The OS picks a free port, the next
 * one is bind-tested too, and both are kept reserved here until released, so two parts starting
 * at once never get the same pair. Another process could still take a port between the test and
 * ffmpeg's bind; ffmpeg then exits and the part is restarted on other ports.
 */
export class PortAllocator {
  private readonly reserved = new Set<number>();

  async allocate(count: number): Promise<PortPair[]> {
    const held: Socket[] = [];
    const pairs: PortPair[] = [];
    try {
      for (let attempt = 0; pairs.length < count; attempt++) {
        if (attempt > 50 + count * 10) throw new Error('could not find free UDP port pairs on 127.0.0.1');
        const first = await bindUdp(0);
        held.push(first);
        const rtpPort = first.address().port;
        if (rtpPort >= 65535 || this.reserved.has(rtpPort) || this.reserved.has(rtpPort + 1)) continue;
        try {
          held.push(await bindUdp(rtpPort + 1));
        } catch {
          continue;
        }
        pairs.push({ rtpPort, rtcpPort: rtpPort + 1 });
        this.reserved.add(rtpPort).add(rtpPort + 1);
      }
      return pairs;
    } catch (err) {
      this.release(pairs);
      throw err;
    } finally {
      await Promise.all(held.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    }
  }

  release(pairs: readonly PortPair[]): void {
    for (const { rtpPort, rtcpPort } of pairs) {
      this.reserved.delete(rtpPort);
      this.reserved.delete(rtcpPort);
    }
  }
}

/**
 * Whether process `pid` has a UDP socket bound to 127.0.0.1 (or any address) on each port, read
 * from /proc (Linux). Null when /proc cannot tell (another OS): the caller then waits a fixed time.
 */
export async function portsBoundBy(pid: number, ports: readonly number[]): Promise<boolean | null> {
  let table: string;
  try {
    table = await readFile('/proc/net/udp', 'utf8');
  } catch {
    return null;
  }
  const wanted = new Set(ports);
  const inodes = new Map<number, string>();
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [address, portHex] = fields[1].split(':');
    const port = Number.parseInt(portHex, 16);
    if (!wanted.has(port) || (address !== '0100007F' && address !== '00000000')) continue;
    inodes.set(port, fields[9]);
  }
  if (inodes.size < wanted.size) return false;
  let owned: Set<string>;
  try {
    const fds = await readdir(`/proc/${pid}/fd`);
    const links = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
    owned = new Set(links.filter((l) => l.startsWith('socket:[')).map((l) => l.slice(8, -1)));
  } catch {
    return false; // the process is gone (or not ours to look at): not bound by it
  }
  return [...inodes.values()].every((inode) => owned.has(inode));
}
