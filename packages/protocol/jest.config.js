/** Jest config of this package: the shared preset (jest.preset.js at the root). */
import preset from "../../jest.preset.js";

export default { ...preset, displayName: "protocol" };
