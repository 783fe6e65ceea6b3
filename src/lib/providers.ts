/** The generators ltx writes llms.txt with: the built-in extractive one, or an OpenAI-compatible LLM. */
export const PROVIDER_NAMES = ["extractive", "openai"] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];
