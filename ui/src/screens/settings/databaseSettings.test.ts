import { describe, expect, it } from 'vitest';
import type { DatabaseCheck } from '../../lib/bindings';
import { checkSentence, chosenSentence } from './databaseSettings';

const server = 'postgres://shop@tills.local/shop';
const empty: DatabaseCheck = { address: server, empty: true, products: null };
const shop = (products: number): DatabaseCheck => ({ address: server, empty: false, products });

describe('checkSentence', () => {
  it('says an empty database will be set up', () => {
    expect(checkSentence(empty, 'en')).toBe('Connected: empty database — Shopcast will set it up.');
    expect(checkSentence(empty, 'zh-CN')).toBe('已连接：空数据库，Shopcast 会自动完成设置。');
  });
  it('counts the products of a shop that is already there', () => {
    expect(checkSentence(shop(1), 'en')).toBe('Connected: a shop with 1 product.');
    expect(checkSentence(shop(1234), 'en')).toBe('Connected: a shop with 1234 products.');
    expect(checkSentence(shop(0), 'en')).toBe('Connected: a shop with 0 products.');
    expect(checkSentence(shop(3), 'zh-CN')).toBe('已连接：店铺中有 3 件商品。');
  });
  it('names the address when the engine sends no count', () => {
    expect(checkSentence({ address: server, empty: false, products: null }, 'en')).toBe(`Connected to ${server}.`);
  });
});

describe('chosenSentence', () => {
  it('says what was found and that it is used from the next start', () => {
    expect(chosenSentence(shop(2), false, 'en')).toBe(
      `Connected: a shop with 2 products. Shopcast uses ${server} from its next start.`,
    );
    expect(chosenSentence(empty, false, 'zh-CN')).toBe(`已连接：空数据库，Shopcast 会自动完成设置。Shopcast 下次启动时将使用 ${server}。`);
  });
  it('going back to the shop file does not name the file check', () => {
    const file: DatabaseCheck = { address: 'sqlite:/home/me/shop.sqlite', empty: false, products: 12 };
    expect(chosenSentence(file, true, 'en')).toBe("Shopcast uses this computer's shop file from its next start.");
  });
});
