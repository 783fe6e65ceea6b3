// Read once: the User-Agent and `ltx --version` name the package version.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require("../../package.json") as { version: string };
export const VERSION: string = pkg.version;
export const USER_AGENT = `ltx/${VERSION} (+https://llmstxt.org; llms.txt generator)`;
