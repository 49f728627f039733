// Names of providers, payment methods, channels, networks and statuses in the UI language;
// codes the catalogs do not know are shown as they are.
import { t, type MessageKey } from './i18n/index.svelte';

function labelOr(key: string, fallback: string): string {
  const label = t(key as MessageKey);
  return label === key ? fallback : label;
}

export const providerName = (provider: string): string => labelOr(`provider.${provider}`, provider);
export const methodName = (method: string): string => labelOr(`method.${method}`, method);
export const channelName = (channel: string): string => labelOr(`channel.${channel}`, channel);
export const paymentStatusName = (status: string): string => labelOr(`payStatus.${status}`, status);
export const networkName = (network: string): string => labelOr(`network.${network}`, network);
export const accountStatusName = (status: string): string => labelOr(`accountStatus.${status}`, status);
export const postStatusName = (status: string): string => labelOr(`postStatus.${status}`, status);
export const signageTemplateName = (name: string): string => labelOr(`signage.template.${name}`, name);

/** How a sale was paid: "Cash", "Stripe · card", "Test mode". */
export function paidWithName(provider: string, method: string | null): string {
  if (provider === 'manual' && method) return methodName(method);
  // Test mode records its payments with the method "test": saying it twice adds nothing.
  return method && method !== provider ? `${providerName(provider)} · ${methodName(method)}` : providerName(provider);
}
