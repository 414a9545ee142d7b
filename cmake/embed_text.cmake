# cmake -DINPUT=<file> -DOUTPUT=<cpp> -DSYMBOL=<name> -P embed_text.cmake
# Writes a C++ source defining `extern const std::string_view <SYMBOL>` with the
# file's bytes, so the daemon serves a document without reading the disk.
file(READ "${INPUT}" content HEX)
string(LENGTH "${content}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${content}")
# Break the initializer into lines of 32 bytes to keep the file readable.
string(REGEX REPLACE "(('\\\\x[0-9a-f][0-9a-f]',){32})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
"// Generated from ${INPUT} by cmake/embed_text.cmake. Do not edit.
#include <string_view>
namespace bootstrapd {
namespace {
constexpr char kBytes[] = {
${bytes}'\\0'};
}  // namespace
extern const std::string_view ${SYMBOL}(kBytes, ${size});
}  // namespace bootstrapd
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
