print("refex-bench")
