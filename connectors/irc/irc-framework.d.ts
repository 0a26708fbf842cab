// Minimal types for irc-framework 4.14 (the package ships none): only what Gleaner uses.
declare module 'irc-framework' {
  import { EventEmitter } from 'node:events';

  export interface IrcCommand {
    command: string;
    params: string[];
    tags: Record<string, string | true>;
    nick: string;
    ident: string;
    hostname: string;
    prefix?: string;
    getTag(name: string): string | true | undefined;
    getServerTime(): number | undefined;
  }

  export interface BatchInfo {
    id: string;
    type: string;
    params: string[];
  }

  export interface MessageEvent {
    from_server: boolean;
    nick: string;
    ident: string;
    hostname: string;
    target: string;
    group?: string;
    message: string;
    tags: Record<string, string | true>;
    time?: number;
    account?: string | true;
    batch?: BatchInfo;
  }

  export interface ClientOptions {
    host: string;
    port?: number;
    nick: string;
    username?: string;
    gecos?: string;
    tls?: boolean;
    rejectUnauthorized?: boolean;
    account?: { account: string; password: string };
    sasl_mechanism?: string;
    sasl_disconnect_on_fail?: boolean;
    auto_reconnect?: boolean;
    auto_reconnect_max_retries?: number;
    ping_interval?: number;
    ping_timeout?: number;
    version?: string | null;
    encoding?: string;
  }

  export class Client extends EventEmitter {
    constructor(options?: Partial<ClientOptions>);
    connect(options?: ClientOptions): void;
    requestCap(cap: string | string[]): void;
    raw(...args: string[]): void;
    join(channel: string, key?: string): void;
    part(channel: string, message?: string): void;
    say(target: string, message: string): void;
    notice(target: string, message: string): void;
    action(target: string, message: string): void;
    changeNick(nick: string): void;
    quit(message?: string): void;
    readonly connected: boolean;
    user: { nick: string; username: string; gecos: string };
    network: {
      name: string;
      supports(name: string): string | boolean | undefined;
      cap: { isEnabled(cap: string): boolean; enabled: string[] };
    };
    connection: { end(): void };
  }
}
