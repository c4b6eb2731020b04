# Decides whether the Python module (python/) is built; included by the top-level CMakeLists.txt
# before the libraries, because the module needs them compiled as position-independent code.
#
# GPTBOOK_PYTHON: AUTO (default) builds the module when pybind11 and the Python headers are found;
# ON requires them and fails saying what to install; OFF never builds it.
# Sets GPTBOOK_PYTHON_ENABLED, and Python3_EXECUTABLE (the interpreter the tests run).

set(GPTBOOK_PYTHON_ENABLED OFF)
string(TOUPPER "${GPTBOOK_PYTHON}" gptbook_python_mode)
if(NOT gptbook_python_mode MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "GPTBOOK_PYTHON is '${GPTBOOK_PYTHON}', expected AUTO, ON or OFF")
endif()

# An instrumented module cannot be loaded by an uninstrumented interpreter without LD_PRELOAD of
# the sanitizer runtime, so AUTO leaves the module out of sanitizer builds.
if(gptbook_python_mode STREQUAL "AUTO" AND GPTBOOK_SANITIZE)
  message(STATUS "gptbook Python module: off (GPTBOOK_SANITIZE=${GPTBOOK_SANITIZE}; pass -DGPTBOOK_PYTHON=ON to force it)")
  set(gptbook_python_mode OFF)
endif()

if(NOT gptbook_python_mode STREQUAL "OFF")
  # Debian's /usr/bin/python3 is the interpreter with NumPy; a pyenv or conda python3 first on
  # PATH usually is not. -DPython3_EXECUTABLE=... picks another.
  if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
    set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "The Python interpreter the gptbook module is built for")
  endif()
  find_package(Python3 COMPONENTS Interpreter Development.Module)
  if(Python3_FOUND)
    find_package(pybind11 CONFIG)
  endif()
  if(Python3_FOUND AND pybind11_FOUND)
    set(GPTBOOK_PYTHON_ENABLED ON)
    message(STATUS "gptbook Python module: on (Python ${Python3_VERSION} at ${Python3_EXECUTABLE}, pybind11 ${pybind11_VERSION})")
  elseif(gptbook_python_mode STREQUAL "ON")
    set(missing "the Python interpreter and headers (Development.Module)")
    if(Python3_FOUND)
      set(missing "pybind11 (its CMake package config)")
    endif()
    message(FATAL_ERROR "GPTBOOK_PYTHON=ON but ${missing} was not found. Install them (Debian/Ubuntu: apt install pybind11-dev python3-dev, or "
      "scripts/install-deps.sh), pass -DPython3_EXECUTABLE=/path/to/python3 for another interpreter, "
      "or configure with -DGPTBOOK_PYTHON=OFF.")
  else()
    message(STATUS "gptbook Python module: off (needs pybind11 and the Python headers: apt install pybind11-dev python3-dev)")
  endif()
endif()
