"""TensorRT-LLM's fpA_intB GEMM (W4A16 on SM90): profiles, rules, generator, instantiations, runner probe, GEMV."""
