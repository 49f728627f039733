// The WeChat Pay section of Settings → Payments without Svelte: what the owner typed, the
// checks that need no server, and the request the engine gets (trimmed, empty → null).
import type { WechatConnect } from '../../lib/bindings';

/** WeChat Pay's own API; a test gateway goes under "advanced". */
export const WECHAT_PRODUCTION = 'https://api.mch.weixin.qq.com';

export type WechatForm = {
  mchid: string;
  appid: string;
  merchantSerial: string;
  /** The merchant API private key (apiclient_key.pem), pasted or read from a file. */
  merchantPrivateKey: string;
  apiv3Key: string;
  wechatpayPublicKey: string;
  wechatpayPublicKeyId: string;
  apiBase: string;
};

export type WechatField = keyof WechatForm;

export const WECHAT_FIELDS: readonly WechatField[] = [
  'mchid',
  'appid',
  'merchantSerial',
  'merchantPrivateKey',
  'apiv3Key',
  'wechatpayPublicKey',
  'wechatpayPublicKeyId',
  'apiBase',
];

/** Message keys of the checks below, so the component translates them. */
export type WechatProblem =
  | 'paySettings.wechat.required'
  | 'paySettings.wechat.apiv3Length'
  | 'paySettings.wechat.publicKeyPair'
  | 'paySettings.wechat.publicKeyIdShape';

/** The facts the shop already saved (never a key), to start the form from. */
export function wechatForm(setup: { mchid: string; appid: string; merchantSerial: string; apiBase: string; publicKeyId: string | null } | null): WechatForm {
  return {
    mchid: setup?.mchid ?? '',
    appid: setup?.appid ?? '',
    merchantSerial: setup?.merchantSerial ?? '',
    merchantPrivateKey: '',
    apiv3Key: '',
    wechatpayPublicKey: '',
    wechatpayPublicKeyId: setup?.publicKeyId ?? '',
    apiBase: setup?.apiBase && setup.apiBase !== WECHAT_PRODUCTION ? setup.apiBase : '',
  };
}

/**
 * What can be told without asking WeChat Pay: every id and both secrets are there, the APIv3
 * key has the 32 characters WeChat Pay gives it, and WeChat Pay's public key comes with its
 * id (PUB_KEY_ID_…) or both are left empty (an account still on platform certificates).
 * The keys themselves are checked by the engine, which signs a real request with them.
 */
export function checkWechatForm(form: WechatForm): Partial<Record<WechatField, WechatProblem>> {
  const out: Partial<Record<WechatField, WechatProblem>> = {};
  for (const field of ['mchid', 'appid', 'merchantSerial', 'merchantPrivateKey', 'apiv3Key'] as const) {
    if (form[field].trim() === '') out[field] = 'paySettings.wechat.required';
  }
  if (!out.apiv3Key && [...form.apiv3Key.trim()].length !== 32) out.apiv3Key = 'paySettings.wechat.apiv3Length';
  const key = form.wechatpayPublicKey.trim();
  const id = form.wechatpayPublicKeyId.trim();
  if (key !== '' && id === '') out.wechatpayPublicKeyId = 'paySettings.wechat.publicKeyPair';
  else if (key === '' && id !== '') out.wechatpayPublicKey = 'paySettings.wechat.publicKeyPair';
  else if (id !== '' && !id.startsWith('PUB_KEY_ID_')) out.wechatpayPublicKeyId = 'paySettings.wechat.publicKeyIdShape';
  return out;
}

/** The engine's request: ids trimmed, keys as pasted (PEM line breaks kept), empty → null. */
export function toWechatConnect(form: WechatForm): WechatConnect {
  const optional = (text: string) => (text.trim() === '' ? null : text.trim());
  return {
    mchid: form.mchid.trim(),
    appid: form.appid.trim(),
    merchantSerial: form.merchantSerial.trim(),
    merchantPrivateKey: form.merchantPrivateKey.trim(),
    apiv3Key: form.apiv3Key.trim(),
    wechatpayPublicKey: optional(form.wechatpayPublicKey),
    wechatpayPublicKeyId: optional(form.wechatpayPublicKeyId),
    apiBase: optional(form.apiBase),
  };
}

/** The form with its secrets emptied: once stored they are never kept in the page. */
export function withoutSecrets(form: WechatForm): WechatForm {
  return { ...form, merchantPrivateKey: '', apiv3Key: '', wechatpayPublicKey: '' };
}
