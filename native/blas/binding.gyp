{
  "targets": [
    {
      "target_name": "trialbook_blas",
      "sources": ["trialbook_blas.c", "cpu.c", "onednn.c", "parallel.c"],
      "cflags": ["-O3", "-fno-trapping-math", "-fno-math-errno", "-fopenmp-simd", "-std=gnu11"],
      "conditions": [
        ["OS=='linux'", { "libraries": ["-ldl", "-lpthread"] }]
      ]
    }
  ]
}
