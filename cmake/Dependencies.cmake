# Every dependency comes from a Debian bookworm package that scripts/setup.sh installs.
find_package(Threads REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(tomlplusplus CONFIG REQUIRED)
# toml++ as the code uses it. The fuzz build compiles it from its headers instead of linking
# Debian's shared library, so that the parser is instrumented like our code (coverage guidance,
# sanitizers): it is where hostile configs used to crash.
add_library(bhe_toml INTERFACE)
if(BHE_FUZZ)
  target_compile_definitions(bhe_toml INTERFACE TOML_HEADER_ONLY=1)
else()
  target_link_libraries(bhe_toml INTERFACE tomlplusplus::tomlplusplus)
endif()
find_package(CLI11 CONFIG REQUIRED)
find_package(civetweb CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)

find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv)
pkg_check_modules(WOLFSSL REQUIRED IMPORTED_TARGET wolfssl)
pkg_check_modules(CARES REQUIRED IMPORTED_TARGET libcares)

# Debian's http-parser ships neither a CMake config nor a pkg-config file.
find_path(HTTP_PARSER_INCLUDE_DIR http_parser.h REQUIRED)
find_library(HTTP_PARSER_LIBRARY http_parser REQUIRED)
add_library(http_parser::http_parser UNKNOWN IMPORTED)
set_target_properties(http_parser::http_parser PROPERTIES
  IMPORTED_LOCATION "${HTTP_PARSER_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${HTTP_PARSER_INCLUDE_DIR}")
