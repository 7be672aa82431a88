{
  # Sources and flags come from native/build-config.json, which CMakeLists.txt reads too.
  "targets": [
    {
      "target_name": "overnight_native",
      "sources": ["<!@(node native/build-config.cjs sources)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["<!@(node native/build-config.cjs defines)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["<!@(node native/build-config.cjs cflags)"],
      "libraries": ["<!@(node native/build-config.cjs libraries)"]
    }
  ]
}
