/** What a transport must offer: ordered per key, at least once, committed only after the handler resolves. */
export interface BusMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}
export interface ReceivedMessage extends BusMessage {
  topic: string;
  partition: number;
  offset: string;
}
export interface ConsumeOptions {
  groupId: string;
  topics: string[];
  /** Resolves: the offset is committed. Rejects: the message is delivered again. */
  handle(message: ReceivedMessage, heartbeat: () => Promise<void>): Promise<void>;
}
export interface Consumer {
  stop(): Promise<void>;
}
export interface EventBus {
  readonly kind: 'kafka' | 'local';
  publish(topic: string, messages: BusMessage[]): Promise<void>;
  consume(options: ConsumeOptions): Promise<Consumer>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
