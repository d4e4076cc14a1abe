print("refex")
