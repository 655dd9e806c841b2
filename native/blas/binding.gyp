{
  "targets": [
    {
      "target_name": "trialbook_blas",
      "sources": ["trialbook_blas.c"],
      "cflags": ["-O2", "-std=c11"],
      "conditions": [
        ["OS=='linux'", { "libraries": ["-ldl"] }]
      ]
    }
  ]
}
