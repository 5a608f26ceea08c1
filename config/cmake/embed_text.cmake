# embed_text.cmake - turns a text file into a C source defining it as a NUL-terminated array.
# Usage: cmake -DINPUT=file -DOUTPUT=file.c -DSYMBOL=name -P embed_text.cmake
# Bytes are written as hex numbers, so no character of the text needs escaping.
foreach(var INPUT OUTPUT SYMBOL)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_text.cmake: -D${var}=... is required")
  endif()
endforeach()
file(READ "${INPUT}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
# 16 bytes per line (CMake regexes have no {n} repetition)
string(REPEAT "0x..," 16 sixteen)
string(REGEX REPLACE "(${sixteen})" "\\1\n    " bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
  "/* Generated from ${INPUT} by embed_text.cmake; do not edit. */\n"
  "extern const char ${SYMBOL}[];\n"
  "const char ${SYMBOL}[] = {\n    ${bytes}0x00\n};\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
