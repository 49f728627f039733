import { describe, expect, it } from 'vitest';
import type { ShopPageView } from '../../lib/bindings';
import { parsePort, statusLines } from './shopPage';

const off: ShopPageView = { settings: { enabled: false, port: 8080 }, publicUrl: '', running: null, problem: null };

describe('parsePort', () => {
  it('takes whole numbers an owner may listen on', () => {
    expect(parsePort('8080')).toBe(8080);
    expect(parsePort(' 65535 ')).toBe(65535);
    expect(parsePort('1024')).toBe(1024);
  });
  it('refuses what would not listen', () => {
    for (const bad of ['', '80', '1023', '65536', '8080.5', '-1', '8e3', 'http', '080800']) {
      expect(parsePort(bad), bad).toBeNull();
    }
  });
});

describe('statusLines', () => {
  const time = (ms: number) => `t${ms}`;
  it('says off, or why it is not running although on', () => {
    expect(statusLines(off, 'en', time)).toEqual(['The shop page is off.']);
    const busy = { ...off, settings: { enabled: true, port: 8080 }, problem: 'port busy' };
    expect(statusLines(busy, 'en', time)).toEqual(['Not running: port busy']);
    expect(statusLines(busy, 'zh-CN', time)).toEqual(['未运行：port busy']);
  });
  it('shows where it listens, the address links use, and the requests', () => {
    const running: ShopPageView = {
      ...off,
      settings: { enabled: true, port: 8080 },
      running: { listening: '127.0.0.1:8080', publicUrl: 'https://shop.example.com', lastRequestAt: null, requests: 0 },
    };
    expect(statusLines(running, 'en', time)).toEqual([
      'Listening on 127.0.0.1:8080; links use https://shop.example.com.',
      'No requests yet.',
    ]);
    running.running!.lastRequestAt = 42;
    running.running!.requests = 7;
    expect(statusLines(running, 'en', time)[1]).toBe('7 requests so far, the last at t42.');
  });
});
