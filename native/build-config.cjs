// Prints one list from native/build-config.json, one item per line, for binding.gyp's <!@(...).
// CMakeLists.txt reads the same JSON with string(JSON ...), so both builds share sources and flags.
const cfg = require('./build-config.json');
const key = process.argv[2];
if (!Array.isArray(cfg[key])) {
  console.error(`build-config: unknown list "${key}"`);
  process.exit(1);
}
console.log(cfg[key].join('\n'));
