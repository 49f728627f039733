import { describe, expect, it } from 'vitest';
import { WECHAT_PRODUCTION, checkWechatForm, toWechatConnect, wechatForm, withoutSecrets, type WechatForm } from './wechat';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
const PUB = '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A\n-----END PUBLIC KEY-----';

const filled: WechatForm = {
  mchid: ' 1900000109 ',
  appid: 'wxd678efh567hg6787',
  merchantSerial: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1 ',
  merchantPrivateKey: `\n${PEM}\n`,
  apiv3Key: 'a'.repeat(32),
  wechatpayPublicKey: PUB,
  wechatpayPublicKeyId: 'PUB_KEY_ID_0119000001092025010600000000000001',
  apiBase: '',
};

describe('wechatForm', () => {
  it('starts from the saved facts, never a key; the production API is not shown as a custom one', () => {
    const form = wechatForm({ mchid: '1900000109', appid: 'wx1', merchantSerial: 'ABC', apiBase: WECHAT_PRODUCTION, publicKeyId: 'PUB_KEY_ID_1' });
    expect(form).toEqual({
      mchid: '1900000109',
      appid: 'wx1',
      merchantSerial: 'ABC',
      merchantPrivateKey: '',
      apiv3Key: '',
      wechatpayPublicKey: '',
      wechatpayPublicKeyId: 'PUB_KEY_ID_1',
      apiBase: '',
    });
    expect(wechatForm({ mchid: '1', appid: 'wx', merchantSerial: 'S', apiBase: 'http://127.0.0.1:5000', publicKeyId: null }).apiBase).toBe('http://127.0.0.1:5000');
    expect(wechatForm(null).mchid).toBe('');
  });
});

describe('checkWechatForm', () => {
  it('accepts a complete form', () => {
    expect(checkWechatForm(filled)).toEqual({});
  });

  it('names every missing id and secret', () => {
    expect(checkWechatForm(wechatForm(null))).toEqual({
      mchid: 'paySettings.wechat.required',
      appid: 'paySettings.wechat.required',
      merchantSerial: 'paySettings.wechat.required',
      merchantPrivateKey: 'paySettings.wechat.required',
      apiv3Key: 'paySettings.wechat.required',
    });
  });

  it('wants the 32-character APIv3 key', () => {
    expect(checkWechatForm({ ...filled, apiv3Key: 'a'.repeat(31) })).toEqual({ apiv3Key: 'paySettings.wechat.apiv3Length' });
    expect(checkWechatForm({ ...filled, apiv3Key: ` ${'a'.repeat(32)} ` })).toEqual({});
  });

  it('wants WeChat Pay’s public key with its id, or neither (platform certificates)', () => {
    expect(checkWechatForm({ ...filled, wechatpayPublicKeyId: '' })).toEqual({ wechatpayPublicKeyId: 'paySettings.wechat.publicKeyPair' });
    expect(checkWechatForm({ ...filled, wechatpayPublicKey: ' ' })).toEqual({ wechatpayPublicKey: 'paySettings.wechat.publicKeyPair' });
    expect(checkWechatForm({ ...filled, wechatpayPublicKeyId: '0119000001' })).toEqual({ wechatpayPublicKeyId: 'paySettings.wechat.publicKeyIdShape' });
    expect(checkWechatForm({ ...filled, wechatpayPublicKey: '', wechatpayPublicKeyId: '' })).toEqual({});
  });
});

describe('toWechatConnect', () => {
  it('trims ids, keeps the PEM lines, and sends empty optionals as null', () => {
    expect(toWechatConnect(filled)).toEqual({
      mchid: '1900000109',
      appid: 'wxd678efh567hg6787',
      merchantSerial: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
      merchantPrivateKey: PEM,
      apiv3Key: 'a'.repeat(32),
      wechatpayPublicKey: PUB,
      wechatpayPublicKeyId: 'PUB_KEY_ID_0119000001092025010600000000000001',
      apiBase: null,
    });
    expect(toWechatConnect({ ...filled, wechatpayPublicKey: '', wechatpayPublicKeyId: '', apiBase: ' http://127.0.0.1:5000 ' })).toMatchObject({
      wechatpayPublicKey: null,
      wechatpayPublicKeyId: null,
      apiBase: 'http://127.0.0.1:5000',
    });
  });

  it('forgets the secrets once stored, keeps the ids', () => {
    const kept = withoutSecrets(filled);
    expect([kept.merchantPrivateKey, kept.apiv3Key, kept.wechatpayPublicKey]).toEqual(['', '', '']);
    expect(kept.mchid).toBe(filled.mchid);
    expect(kept.wechatpayPublicKeyId).toBe(filled.wechatpayPublicKeyId);
  });
});
