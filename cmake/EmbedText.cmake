# cmake -DINPUT=file -DOUTPUT=file.cpp -DSYMBOL=name -P EmbedText.cmake
# Writes a C++ source defining `extern const char SYMBOL[]` with the file's bytes, so assets
# like the status page ship inside the binary (no files to install, no CDN).
file(READ "${INPUT}" content HEX)
# Cast each byte: values above 0x7f (UTF-8) do not fit a plain char without one.
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "char(0x\\1)," signed_bytes "${content}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by cmake/EmbedText.cmake; do not edit.\n"
  "namespace bhe {\nextern const char ${SYMBOL}[];\n"
  "const char ${SYMBOL}[] = {${signed_bytes}0x00};\n}\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
