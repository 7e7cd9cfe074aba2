{
  "targets": [
    {
      "target_name": "distillery_native",
      "sources": ["src/sgemm.cc", "src/pool.cc", "src/ops.cc", "src/addon.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-ffp-contract=off", "-pthread", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-O3"]
      },
      "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/std:c++17", "/O2"] } }
    }
  ]
}
