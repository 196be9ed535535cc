import { describe, expect, it } from 'vitest';
import * as ws from 'ws';
import { nextFrame, textFrame } from './websocket.js';

/** What a client's `ws` reads from these bytes: the text messages, in order. */
/** ws's frame parser (exported by ws, not in its type definitions). */
interface FrameReceiver {
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  write(chunk: Buffer): void;
}
const { Receiver } = ws as unknown as { Receiver: new (options: { isServer: boolean; maxPayload: number }) => FrameReceiver };

function received(bytes: Buffer): string[] {
  const messages: string[] = [];
  // A client's receiver: server frames are unmasked.
  const receiver = new Receiver({ isServer: false, maxPayload: 0 });
  receiver.on('message', (data: Buffer, isBinary: boolean) => messages.push(`${isBinary ? 'binary:' : ''}${data.toString()}`));
  receiver.on('error', (error: Error) => messages.push(`error: ${error.message}`));
  receiver.write(bytes);
  return messages;
}

describe('the frames the gateway writes itself', () => {
  it.each([
    ['short (7-bit length)', 20],
    ['126 bytes and up (16-bit length)', 300],
    ['64 KiB and up (64-bit length)', 70_000],
  ])('frames a next message %s as one text message with the subscription id and the payload', (_name, size) => {
    const payload = JSON.stringify({ data: { quote: { symbol: 'ÄPL', note: 'x'.repeat(size) } } });
    const frame = nextFrame(Buffer.from('{"id":"sub-1","type":"next","payload":'), Buffer.from(payload));
    expect(received(frame)).toEqual([`{"id":"sub-1","type":"next","payload":${payload}}`]);
  });

  it('keeps the messages of one write apart and in order', () => {
    const shared = Buffer.from('{"data":{"quote":{"last":1.5}}}');
    const bytes = Buffer.concat([
      textFrame(Buffer.from('{"type":"connection_ack"}')),
      nextFrame(Buffer.from('{"id":"a","type":"next","payload":'), shared),
      nextFrame(Buffer.from('{"id":"b","type":"next","payload":'), shared),
      textFrame(Buffer.from('x'.repeat(200))),
    ]);
    expect(received(bytes)).toEqual([
      '{"type":"connection_ack"}',
      '{"id":"a","type":"next","payload":{"data":{"quote":{"last":1.5}}}}',
      '{"id":"b","type":"next","payload":{"data":{"quote":{"last":1.5}}}}',
      'x'.repeat(200),
    ]);
  });
});
