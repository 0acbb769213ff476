import dgram from 'node:dgram';
import { after } from 'node:test';

export interface TestDnsServer {
  /** `127.0.0.1:port`, for HostResolver's `servers`. */
  address: string;
  /** Every question received, as `name TYPE`, in order. */
  questions: string[];
  close(): Promise<void>;
}

type Answer = { a?: string[]; aaaa?: string[]; ttl?: number } | 'silent';

/**
 * A UDP DNS server on 127.0.0.1 answering A and AAAA questions from `zone`;
 * names not in it get NXDOMAIN, names whose answer is 'silent' get nothing
 * (a hanging name server). Closed when the test file ends.
 */
export async function startDnsServer(zone: Record<string, Answer>): Promise<TestDnsServer> {
  const socket = dgram.createSocket('udp4');
  const questions: string[] = [];
  socket.on('message', (query, peer) => {
    const labels: string[] = [];
    let offset = 12;
    while (query[offset] !== 0) {
      labels.push(query.subarray(offset + 1, offset + 1 + query[offset]).toString('ascii'));
      offset += query[offset] + 1;
    }
    const type = query.readUInt16BE(offset + 1);
    const question = query.subarray(12, offset + 5);
    const name = labels.join('.').toLowerCase();
    questions.push(`${name} ${type === 1 ? 'A' : type === 28 ? 'AAAA' : type}`);
    const answer = zone[name];
    if (answer === 'silent') return;
    const ttl = answer?.ttl ?? 60;
    const rdatas = !answer ? [] : type === 1 ? (answer.a ?? []).map(ipv4) : type === 28 ? (answer.aaaa ?? []).map(ipv6) : [];
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2);
    header.writeUInt16BE(0x8180 | (answer ? 0 : 3), 2); // response, recursion available; NXDOMAIN when unknown
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(rdatas.length, 6);
    const records = rdatas.map((rdata) => {
      const record = Buffer.alloc(12);
      record.writeUInt16BE(0xc00c, 0); // the question's name
      record.writeUInt16BE(type, 2);
      record.writeUInt16BE(1, 4);
      record.writeUInt32BE(ttl, 6);
      record.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([record, rdata]);
    });
    socket.send(Buffer.concat([header, question, ...records]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  };
  after(close);
  return { address: `127.0.0.1:${socket.address().port}`, questions, close };
}

function ipv4(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

function ipv6(address: string): Buffer {
  const [head, tail] = address.split('::');
  const parts = (s?: string) => (s ? s.split(':').map((h) => parseInt(h, 16)) : []);
  const high = parts(head);
  const low = tail === undefined ? [] : parts(tail);
  const groups = [...high, ...Array(8 - high.length - low.length).fill(0), ...low];
  const buffer = Buffer.alloc(16);
  groups.forEach((group, i) => buffer.writeUInt16BE(group, i * 2));
  return buffer;
}
