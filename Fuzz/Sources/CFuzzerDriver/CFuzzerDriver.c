// Only a header: the driver itself is in libFuzzer.
