# Cross-compile for 32-bit Windows (i686) with Debian's MinGW-w64 (gcc, posix threads off: win32):
# the 32-bit qagent.dll, qutil.dll and tools that 32-bit ECs and SHAs load from SysWOW64.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR i686)
set(TOOLCHAIN_PREFIX i686-w64-mingw32)
set(CMAKE_C_COMPILER ${TOOLCHAIN_PREFIX}-gcc)
set(CMAKE_RC_COMPILER ${TOOLCHAIN_PREFIX}-windres)
set(CMAKE_FIND_ROOT_PATH /usr/${TOOLCHAIN_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
find_program(WIDL ${TOOLCHAIN_PREFIX}-widl REQUIRED)
find_program(DLLTOOL ${TOOLCHAIN_PREFIX}-dlltool REQUIRED)
find_program(OBJDUMP_PE ${TOOLCHAIN_PREFIX}-objdump REQUIRED)
