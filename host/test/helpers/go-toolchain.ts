/**
 * Tests that need the Go toolchain (Debian's golang-go and the Go libraries the SDK imports,
 * sdk-go/debian-packages): the same rule as the Python ones (helpers/toolchain.ts) — they run
 * when the toolchain is whole, are skipped with one printed line per file otherwise, and fail
 * with that line under CI=true. The check is the SDK's own (`sh sdk-go/toolchain.sh check`), so
 * tests, `pnpm build` and the example's launcher agree on what "missing" means.
 */
import { fileURLToPath } from "node:url";
import { scriptToolchain, toolchainGate, type ToolchainGate, type ToolchainState } from "./toolchain.js";

/** The Go SDK's folder. */
export const SDK_GO_DIR = fileURLToPath(new URL("../../../sdk-go", import.meta.url));
/** The SDK's toolchain script (`check`, `command`, `gopath`). */
export const GO_TOOLCHAIN_SH = `${SDK_GO_DIR}/toolchain.sh`;
/** The Go example's folder. */
export const GO_EXAMPLE_DIR = fileURLToPath(new URL("../../../examples/go-plugin", import.meta.url));

/** Why the Go toolchain is incomplete here ("" when it is whole), and the command that installs it. */
export const goToolchain: () => ToolchainState = scriptToolchain(GO_TOOLCHAIN_SH);

const go = toolchainGate("Go", goToolchain);

/** `describe` for tests that need the Go toolchain (`file`: the calling test's `import.meta.url`). */
export const describeWithGo: ToolchainGate["describe"] = go.describe;

/** `it` for one test that needs the Go toolchain, in a file whose other tests do not. */
export const itWithGo: ToolchainGate["it"] = go.it;
