import { describe, expect, it } from 'vitest';
import type { DayRow, GroupRow } from '../../lib/bindings';
import { zonedToday } from '../payments/payments';
import {
  addDays,
  dayChart,
  daysInMonth,
  exportFileName,
  formatBytes,
  matchingPreset,
  methodSplit,
  niceCeil,
  presetPeriod,
  splitMethodKey,
  toReportFilter,
} from './reports';

describe('calendar', () => {
  it('knows month lengths and leap years', () => {
    expect(daysInMonth(2026, 1)).toBe(31);
    expect(daysInMonth(2026, 4)).toBe(30);
    expect(daysInMonth(2026, 2)).toBe(28);
    expect(daysInMonth(2028, 2)).toBe(29);
    expect(daysInMonth(2100, 2)).toBe(28);
    expect(daysInMonth(2000, 2)).toBe(29);
  });
  it('adds days across months, years and 29 February', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
    expect(addDays('2027-01-10', -29)).toBe('2026-12-12');
    expect(addDays('2026-02-30', 1)).toBeNull();
    expect(addDays('yesterday', 1)).toBeNull();
  });
});

describe('presetPeriod', () => {
  it('gives whole calendar months and years', () => {
    expect(presetPeriod('thisMonth', '2026-11-17')).toEqual({ from: '2026-11-01', to: '2026-11-30' });
    expect(presetPeriod('lastMonth', '2026-11-17')).toEqual({ from: '2026-10-01', to: '2026-10-31' });
    expect(presetPeriod('thisYear', '2026-11-17')).toEqual({ from: '2026-01-01', to: '2026-12-31' });
    expect(presetPeriod('last30Days', '2026-11-17')).toEqual({ from: '2026-10-19', to: '2026-11-17' });
  });
  it('steps back from January into last December', () => {
    expect(presetPeriod('lastMonth', '2027-01-01')).toEqual({ from: '2026-12-01', to: '2026-12-31' });
    expect(presetPeriod('last30Days', '2027-01-05')).toEqual({ from: '2026-12-07', to: '2027-01-05' });
    expect(presetPeriod('thisYear', '2027-01-01')).toEqual({ from: '2027-01-01', to: '2027-12-31' });
  });
  it('ends February on the 29th in leap years only', () => {
    expect(presetPeriod('thisMonth', '2028-02-10')).toEqual({ from: '2028-02-01', to: '2028-02-29' });
    expect(presetPeriod('lastMonth', '2028-03-31')).toEqual({ from: '2028-02-01', to: '2028-02-29' });
    expect(presetPeriod('lastMonth', '2027-03-31')).toEqual({ from: '2027-02-01', to: '2027-02-28' });
    expect(presetPeriod('last30Days', '2028-03-01')).toEqual({ from: '2028-02-01', to: '2028-03-01' });
    expect(presetPeriod('last30Days', '2027-03-01')).toEqual({ from: '2027-01-31', to: '2027-03-01' });
  });
  it('uses the shop’s date, not the computer’s', () => {
    // 2026-11-30 20:30 UTC is already 1 December in Shanghai, still 30 November in New York.
    const now = Date.UTC(2026, 10, 30, 20, 30);
    expect(presetPeriod('thisMonth', zonedToday(now, 'Asia/Shanghai'))).toEqual({ from: '2026-12-01', to: '2026-12-31' });
    expect(presetPeriod('thisMonth', zonedToday(now, 'America/New_York'))).toEqual({ from: '2026-11-01', to: '2026-11-30' });
    // New Year's Eve in UTC is New Year's Day in Auckland: "this year" moves on there first.
    const eve = Date.UTC(2026, 11, 31, 12, 0);
    expect(presetPeriod('thisYear', zonedToday(eve, 'Pacific/Auckland'))).toEqual({ from: '2027-01-01', to: '2027-12-31' });
    expect(presetPeriod('lastMonth', zonedToday(eve, 'Pacific/Auckland'))).toEqual({ from: '2026-12-01', to: '2026-12-31' });
  });
  it('refuses a malformed today', () => {
    expect(presetPeriod('thisMonth', '')).toBeNull();
    expect(presetPeriod('thisMonth', '2026-13-01')).toBeNull();
  });
  it('recognises a period a preset gives', () => {
    expect(matchingPreset({ from: '2026-11-01', to: '2026-11-30' }, '2026-11-17')).toBe('thisMonth');
    expect(matchingPreset({ from: '2026-10-19', to: '2026-11-17' }, '2026-11-17')).toBe('last30Days');
    expect(matchingPreset({ from: '2026-11-02', to: '2026-11-30' }, '2026-11-17')).toBeNull();
  });
});

describe('exportFileName', () => {
  it('names the period and the format', () => {
    expect(exportFileName({ from: '2026-11-01', to: '2026-11-30' }, 'csv')).toBe('sales-2026-11-01_2026-11-30.csv');
    expect(exportFileName({ from: '2026-11-01', to: '2026-11-30' }, 'pdf', '销售')).toBe('销售-2026-11-01_2026-11-30.pdf');
  });
  it('names a single day once', () => {
    expect(exportFileName({ from: '2026-11-05', to: '2026-11-05' }, 'csv')).toBe('sales-2026-11-05.csv');
  });
  it('keeps file systems happy with odd prefixes and half-typed periods', () => {
    expect(exportFileName({ from: '2026-11-01', to: '2026-11-30' }, 'csv', 'a/b:c')).toBe('a-b-c-2026-11-01_2026-11-30.csv');
    expect(exportFileName({ from: '2026-11-01', to: '' }, 'csv')).toBe('sales-2026-11-01.csv');
    expect(exportFileName({ from: '', to: '' }, 'pdf', '  ')).toBe('sales.pdf');
  });
});

describe('toReportFilter', () => {
  it('sends empty choices as null and trims the SKU', () => {
    const filter = toReportFilter({
      from: '2026-11-01', to: '2026-11-30', provider: '', channel: 'till', status: '', sku: '  TEA-1 ', till: ' 收银台 2 ', includeTest: true,
    });
    expect(filter).toEqual({
      from: '2026-11-01', to: '2026-11-30', provider: null, channel: 'till', status: null, sku: 'TEA-1', till: '收银台 2', includeTest: true,
    });
    expect(toReportFilter({ from: '2026-11-01', to: '2026-11-30', provider: '', channel: '', status: '', sku: '', till: '  ', includeTest: false }).till).toBeNull();
  });
});

const day = (date: string, netMinor: number, currency = 'CNY'): DayRow => ({
  date, currency, grossMinor: netMinor, refundedMinor: 0, netMinor, payments: netMinor > 0 ? 1 : 0,
});

describe('chart scaling', () => {
  it('rounds the axis up to 1, 2 or 5 × 10ⁿ', () => {
    expect(niceCeil(0)).toBe(0);
    expect(niceCeil(-5)).toBe(0);
    expect(niceCeil(1)).toBe(1);
    expect(niceCeil(3)).toBe(5);
    expect(niceCeil(17_600)).toBe(20_000);
    expect(niceCeil(20_000)).toBe(20_000);
    expect(niceCeil(20_001)).toBe(50_000);
    expect(niceCeil(50_001)).toBe(100_000);
    expect(niceCeil(0.4)).toBe(1);
  });
  it('scales bars to the axis, keeps zero days flat and small days visible', () => {
    const chart = dayChart([day('2026-11-01', 17_600), day('2026-11-02', 0), day('2026-11-03', 10), day('2026-11-04', 5_000)], 'CNY', 100);
    expect(chart.axisMax).toBe(20_000);
    expect(chart.bars.map((b) => b.height)).toEqual([88, 0, 1, 25]);
    expect(chart.bars.map((b) => b.date)).toEqual(['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04']);
  });
  it('draws a period without sales as flat bars and a zero axis', () => {
    const chart = dayChart([day('2026-11-01', 0), day('2026-11-02', 0)], 'CNY', 100);
    expect(chart.axisMax).toBe(0);
    expect(chart.bars.map((b) => b.height)).toEqual([0, 0]);
  });
  it('charts one currency at a time', () => {
    const rows = [day('2026-11-01', 100, 'CNY'), day('2026-11-01', 90_000, 'JPY'), day('2026-11-02', 50, 'CNY'), day('2026-11-02', 0, 'JPY')];
    const cny = dayChart(rows, 'CNY', 40);
    expect(cny.axisMax).toBe(100);
    expect(cny.bars.map((b) => b.height)).toEqual([40, 20]);
    const jpy = dayChart(rows, 'JPY', 40);
    expect(jpy.axisMax).toBe(100_000);
    expect(jpy.bars.map((b) => b.height)).toEqual([36, 0]);
  });
  it('the best day reaches the top when it is a round amount', () => {
    const chart = dayChart([day('2026-11-01', 100_000, 'USD'), day('2026-11-02', 1, 'USD')], 'USD', 120);
    expect(chart.bars[0].height).toBe(120);
    expect(chart.bars[1].height).toBe(1);
  });
});

const method = (key: string, netMinor: number, currency = 'CNY', payments = 1): GroupRow => ({
  key, detail: null, currency, quantity: 1, grossMinor: netMinor, netMinor, payments,
});

describe('methodSplit', () => {
  it('splits thirds into whole percents that add up to 100', () => {
    const [cny] = methodSplit([method('manual · cash', 100), method('test · —', 100), method('stripe · card', 100)]);
    expect(cny.netMinor).toBe(300);
    expect(cny.shares.map((s) => s.percent).reduce((a, b) => a + b)).toBe(100);
    expect(cny.shares.map((s) => s.percent).sort()).toEqual([33, 33, 34]);
  });
  it('gives leftover points to the largest remainders', () => {
    // 66.6…, 16.6…, 16.6… → 67, 17, 16 (ties go to the earlier row)
    const [cny] = methodSplit([method('manual · cash', 400), method('alipay · qr', 100), method('stripe · card', 100)]);
    expect(cny.shares.map((s) => [s.key, s.percent])).toEqual([
      ['manual · cash', 67],
      ['alipay · qr', 17],
      ['stripe · card', 16],
    ]);
  });
  it('keeps currencies apart and never adds them together', () => {
    const split = methodSplit([method('manual · cash', 17_600, 'CNY'), method('stripe · card', 500, 'EUR'), method('test · —', 8_800, 'CNY')]);
    expect(split.map((s) => [s.currency, s.netMinor])).toEqual([['CNY', 26_400], ['EUR', 500]]);
    expect(split[0].shares.map((s) => [s.provider, s.method, s.percent])).toEqual([['manual', 'cash', 67], ['test', null, 33]]);
    expect(split[1].shares.map((s) => s.percent)).toEqual([100]);
  });
  it('is exact for amounts beyond what a percentage in floating point keeps', () => {
    const big = 2 ** 52;
    const [usd] = methodSplit([method('a · x', big, 'USD'), method('b · y', 1, 'USD')]);
    expect(usd.shares.map((s) => s.percent)).toEqual([100, 0]);
  });
  it('shows 0% everywhere when everything was refunded', () => {
    const [cny] = methodSplit([method('manual · cash', 0), method('test · —', 0)]);
    expect(cny.shares.map((s) => s.percent)).toEqual([0, 0]);
  });
  it('reads the engine’s method keys', () => {
    expect(splitMethodKey('manual · cash')).toEqual({ provider: 'manual', method: 'cash' });
    expect(splitMethodKey('test · —')).toEqual({ provider: 'test', method: null });
    expect(splitMethodKey('stripe')).toEqual({ provider: 'stripe', method: null });
  });
});

describe('formatBytes', () => {
  it('picks a unit people read', () => {
    expect(formatBytes(812, 'en')).toBe('812 bytes');
    expect(formatBytes(3_400, 'en')).toBe('3.4 kB');
    expect(formatBytes(1_250_000, 'en')).toBe('1.3 MB');
  });
});
