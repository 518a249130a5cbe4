# A test that cannot run fails with the reason: cmake -DMSG=... -P fail.cmake
message(FATAL_ERROR "${MSG}")
