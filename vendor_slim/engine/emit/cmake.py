"""The emitted CMake project: CMakeLists.txt, the package config, the export map."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vendor_slim import __version__
from vendor_slim.engine.emit.tree import map_dir, tree_path
from vendor_slim.errors import BadInput
from vendor_slim.layout import (
    test_program,
)
from vendor_slim.models import EmitInput


def _cmake_list(items: Sequence[str], indent: str = "  ") -> str:
    return "\n".join(f"{indent}{i}" for i in items)


def _include_dirs(inp: EmitInput, roots: dict[str, Path]) -> tuple[list[str], list[str]]:
    """(public, private) include folders as paths in the tree: `include/` is the installed API."""
    private_inc: list[str] = []
    public_inc: list[str] = []
    for d in inp.include_dirs:
        mapped = map_dir(d, inp, roots)
        if mapped is None:
            raise BadInput(f"include folder {d} is outside the upstream roots")
        (public_inc if mapped == "include" else private_inc).append(f"${{CMAKE_CURRENT_SOURCE_DIR}}/{mapped}")
    return public_inc, private_inc


def _isolation_block(inp: EmitInput) -> str:
    """The shared library linked with the export map (symbol isolation); the option is declared earlier."""
    if not inp.api_namespace:
        return ""
    lib, up = inp.library, inp.library.upper()
    return f"""if(BUILD_SHARED_LIBS AND {up}_HIDE_UPSTREAM_SYMBOLS)
  # Upstream symbols (tensorrt_llm::, cutlass::) stay local to the library: loaded next to TensorRT-LLM
  # or FlashInfer, which define the same names, each binds to its own. The sources are unchanged.
  target_link_options({lib} PRIVATE "LINKER:--version-script=${{CMAKE_CURRENT_SOURCE_DIR}}/cmake/exports.map")
  set_property(TARGET {lib} APPEND PROPERTY LINK_DEPENDS ${{CMAKE_CURRENT_SOURCE_DIR}}/cmake/exports.map)
endif()
"""


def _library_block(inp: EmitInput) -> str:
    """The library target. With isolation and a static build, its sources compile in an OBJECT library
    whose objects become one relocatable object with only the API namespace global (see below)."""
    lib, up = inp.library, inp.library.upper()
    if not inp.api_namespace:
        return f"add_library({lib} ${{_{up}_SOURCES}})\n"
    ns = inp.api_namespace
    return f"""option({up}_HIDE_UPSTREAM_SYMBOLS "Export only {ns}:: symbols" ON)
set(_{up}_ISOLATED_STATIC OFF)
if(NOT BUILD_SHARED_LIBS AND {up}_HIDE_UPSTREAM_SYMBOLS AND CMAKE_LINKER AND CMAKE_OBJCOPY)
  set(_{up}_ISOLATED_STATIC ON)
endif()
if(_{up}_ISOLATED_STATIC)
  # The static library, too, defines only {ns}:: globally: its objects are linked into one relocatable
  # object (COMDAT groups resolved inside it, so no group is shared with the program's), and objcopy makes
  # every other symbol local. A program that also links TensorRT-LLM gets no clash and each its own copy.
  set(_{up}_CORE {lib}_objects)
  add_library({lib}_objects OBJECT ${{_{up}_SOURCES}})
else()
  set(_{up}_CORE {lib})
  add_library({lib} ${{_{up}_SOURCES}})
endif()
"""


def _static_isolation_block(inp: EmitInput, public_inc: Sequence[str]) -> str:
    if not inp.api_namespace:
        return ""
    lib, up, ns = inp.library, inp.library.upper(), inp.api_namespace
    mangled = f"{len(ns)}{ns}"  # the Itanium ABI spells namespace NS as <len><name> after _ZN, _ZNK, _ZT?N
    return f"""if(_{up}_ISOLATED_STATIC)
  set(_{up}_OBJ ${{CMAKE_CURRENT_BINARY_DIR}}/{lib}_isolated.o)
  add_custom_command(OUTPUT ${{_{up}_OBJ}}
    COMMAND ${{CMAKE_LINKER}} -r --force-group-allocation -o ${{_{up}_OBJ}} $<TARGET_OBJECTS:{lib}_objects>
    COMMAND ${{CMAKE_OBJCOPY}} --wildcard "--keep-global-symbol=_ZN{mangled}*" "--keep-global-symbol=_ZNK{mangled}*"
            "--keep-global-symbol=_ZT*N{mangled}*" ${{_{up}_OBJ}}
    DEPENDS {lib}_objects $<TARGET_OBJECTS:{lib}_objects>
    COMMAND_EXPAND_LISTS VERBATIM
    COMMENT "Linking {lib}_isolated.o (only {ns}:: symbols stay global)")
  add_library({lib} STATIC ${{_{up}_OBJ}})
  set_target_properties({lib} PROPERTIES LINKER_LANGUAGE CXX)
  target_include_directories({lib} INTERFACE $<BUILD_INTERFACE:{";".join(public_inc)}> $<INSTALL_INTERFACE:include>)
  target_link_libraries({lib} INTERFACE {" ".join(inp.link_libraries)})
endif()
"""


def _test_block(inp: EmitInput, cuda_opts: Sequence[str]) -> str:
    """The test-and-benchmark program, built unless <LIB>_BUILD_TESTS is off."""
    if not inp.test_sources:
        return ""
    lib, up = inp.library, inp.library.upper()
    return f"""
if({up}_BUILD_TESTS)
  add_executable({test_program(lib)}
{_cmake_list(inp.test_sources, "    ")}
  )
  set_target_properties({test_program(lib)} PROPERTIES CUDA_ARCHITECTURES OFF)
  target_compile_options({test_program(lib)} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:{";".join(cuda_opts)}>)
  target_link_libraries({test_program(lib)} PRIVATE {lib}::{lib} {" ".join(inp.test_libraries)})
endif()
"""


def _install_block(lib: str) -> str:
    """Install and export rules, so that find_package(<lib>) works after `cmake --install`."""
    return f"""include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
install(TARGETS {lib} EXPORT {lib}Targets
  ARCHIVE DESTINATION ${{CMAKE_INSTALL_LIBDIR}}
  LIBRARY DESTINATION ${{CMAKE_INSTALL_LIBDIR}}
  RUNTIME DESTINATION ${{CMAKE_INSTALL_BINDIR}}
  INCLUDES DESTINATION ${{CMAKE_INSTALL_INCLUDEDIR}})
install(DIRECTORY include/ DESTINATION ${{CMAKE_INSTALL_INCLUDEDIR}})
install(EXPORT {lib}Targets NAMESPACE {lib}:: DESTINATION ${{CMAKE_INSTALL_LIBDIR}}/cmake/{lib})
configure_package_config_file(cmake/{lib}Config.cmake.in
  ${{CMAKE_CURRENT_BINARY_DIR}}/{lib}Config.cmake
  INSTALL_DESTINATION ${{CMAKE_INSTALL_LIBDIR}}/cmake/{lib})
write_basic_package_version_file(${{CMAKE_CURRENT_BINARY_DIR}}/{lib}ConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${{CMAKE_CURRENT_BINARY_DIR}}/{lib}Config.cmake ${{CMAKE_CURRENT_BINARY_DIR}}/{lib}ConfigVersion.cmake
  DESTINATION ${{CMAKE_INSTALL_LIBDIR}}/cmake/{lib})
"""


def render_cmake(inp: EmitInput, roots: dict[str, Path]) -> str:
    lib = inp.library
    up = lib.upper()
    sources = sorted(tree_path(tu.source, inp, roots) for tu in inp.tus)
    public_inc, private_inc = _include_dirs(inp, roots)
    arch = inp.cuda_arch
    cuda_opts = [f"-gencode=arch=compute_{arch},code=sm_{arch}", *inp.cuda_flags]
    defines = _cmake_list(inp.defines, "    ")
    core = f"${{_{up}_CORE}}" if inp.api_namespace else lib  # the target the sources compile in
    test = _test_block(inp, cuda_opts)
    install = "".join(f"  {line}\n" if line else "\n" for line in _install_block(lib).splitlines())
    return f"""# Generated by vendor-slim {__version__}; to regenerate, run `vendor-slim sync DIR --trtllm PATH`
# (it re-extracts with the flags vendor.lock.json records) rather than editing.
cmake_minimum_required(VERSION 3.18)
project({lib} VERSION 0.1.0 LANGUAGES CXX CUDA)

# Built on its own, the tree builds its test program and has install rules; used through
# add_subdirectory() by another project, neither by default, and it sets nothing in the parent's cache.
if(CMAKE_SOURCE_DIR STREQUAL CMAKE_CURRENT_SOURCE_DIR)
  set(_{up}_TOP_LEVEL ON)
else()
  set(_{up}_TOP_LEVEL OFF)
endif()
option({up}_BUILD_TESTS "Build the test-and-benchmark program" ${{_{up}_TOP_LEVEL}})
option({up}_INSTALL "Add the install and package-config rules" ${{_{up}_TOP_LEVEL}})
if(_{up}_TOP_LEVEL)
  if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
    set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
  endif()
  set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
endif()
# CMAKE_CUDA_COMPILER_LAUNCHER (ccache, sccache) is honoured as given on the command line.

find_package(CUDAToolkit REQUIRED)
{"".join(f"find_package({pkg})" + chr(10) for pkg in inp.cmake_packages)}
set(_{up}_SOURCES
{_cmake_list(sources)}
)
{_library_block(inp)}
# The arch is passed explicitly: CMake before 3.28 drops the "a" of CUDA_ARCHITECTURES=90a, and the
# TMA/WGMMA kernels then fail at run time.
set_target_properties({core} PROPERTIES CUDA_ARCHITECTURES OFF POSITION_INDEPENDENT_CODE ON
  CXX_STANDARD {inp.std.removeprefix("c++")} CXX_STANDARD_REQUIRED ON
  CUDA_STANDARD {inp.std.removeprefix("c++")} CUDA_STANDARD_REQUIRED ON)
target_compile_options({core} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:{";".join(cuda_opts)}>)
target_compile_definitions({core} PRIVATE
{defines}
)
target_include_directories({core}
  PUBLIC
    $<BUILD_INTERFACE:{";".join(public_inc)}>
    $<INSTALL_INTERFACE:include>
  PRIVATE
{_cmake_list(private_inc, "    ")}
)
target_link_libraries({core} PUBLIC {" ".join(inp.link_libraries)})
{_static_isolation_block(inp, public_inc)}add_library({lib}::{lib} ALIAS {lib})
if(BUILD_SHARED_LIBS)
  # a shared library must resolve every symbol now: this is the link-completeness check
  target_link_options({lib} PRIVATE "LINKER:--no-undefined")
endif()
{_isolation_block(inp)}
if({up}_INSTALL)
{install}endif()
{test}"""


def render_exports(inp: EmitInput) -> str:
    """A linker version script exporting only the API namespace."""
    return (f"/* Generated by vendor-slim: export only {inp.api_namespace}:: (see CMakeLists.txt). */\n"
            f"{{\n  global:\n    extern \"C++\" {{\n      {inp.api_namespace}::*;\n    }};\n  local:\n    *;\n}};\n")


def render_config(inp: EmitInput) -> str:
    deps = "".join(f"find_dependency({pkg.removesuffix(' REQUIRED')})\n" for pkg in inp.cmake_packages)
    return f"""@PACKAGE_INIT@
include(CMakeFindDependencyMacro)
find_dependency(CUDAToolkit)
{deps}include("${{CMAKE_CURRENT_LIST_DIR}}/{inp.library}Targets.cmake")
check_required_components({inp.library})
"""
