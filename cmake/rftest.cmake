# rf_add_test(NAME <name> LABEL <family> SOURCES <files...> [KIND unit|stress] [TIMEOUT <s>]
#             [LIBS <libs...>] [EXAMPLE] [SERIAL])
#
# Labels: the family (LABEL) and the KIND: `unit` (the default: exact behaviour, quick)
# or `stress` (races and load, bounded to a few seconds each); `ctest -L unit` runs the
# quick ones of every family.
# Builds one cmocka test binary against the library's objects (rf_internal, so tests may
# use internal headers); or, with EXAMPLE, an example program against the shared library and the
# public headers only, which checks its own answer and passes when it exits 0.
# Either is registered three times, the configuration matrix every test runs in:
#   <name>          as the environment gives it (tests/run runs with RF_* unset)
#   <name>@epoll    RF_IO_BACKEND=epoll
#   <name>@2node    RF_TOPOLOGY=${RF_TEST_TOPOLOGY} (a simulated two-node machine)
# SERIAL runs each registration alone (RUN_SERIAL): for a test that judges bounds of time
# between its own busy threads, which a parallel test's threads on the same CPUs disturb.
set(RF_TEST_TOPOLOGY "0:0,1:1" CACHE STRING "RF_TOPOLOGY of the simulated two-node test runs")
find_library(CMOCKA_LIBRARY cmocka REQUIRED)

function(rf_add_test)
  cmake_parse_arguments(T "EXAMPLE;SERIAL" "NAME;TIMEOUT;KIND" "LABEL;SOURCES;LIBS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  if(NOT T_KIND)
    set(T_KIND unit)
  elseif(NOT T_KIND MATCHES "^(unit|stress)$")
    message(FATAL_ERROR "rf_add_test(${T_NAME}): KIND must be unit or stress")
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  if(T_EXAMPLE)
    target_link_libraries(${T_NAME} PRIVATE ringfold rf_flags ${T_LIBS})
  else()
    target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/tests)
    target_link_libraries(${T_NAME} PRIVATE rf_internal rf_flags ${CMOCKA_LIBRARY} ${T_LIBS})
  endif()
  set(envs "" "RF_IO_BACKEND=epoll" "RF_TOPOLOGY=${RF_TEST_TOPOLOGY}")
  set(suffixes "" "@epoll" "@2node")
  foreach(i RANGE 2)
    list(GET suffixes ${i} suffix)
    list(GET envs ${i} env)
    add_test(NAME ${T_NAME}${suffix} COMMAND ${T_NAME})
    set_tests_properties(${T_NAME}${suffix} PROPERTIES LABELS "${T_LABEL};${T_KIND}" TIMEOUT ${T_TIMEOUT})
    if(env)
      set_tests_properties(${T_NAME}${suffix} PROPERTIES ENVIRONMENT "${env}")
    endif()
    if(T_SERIAL)
      set_tests_properties(${T_NAME}${suffix} PROPERTIES RUN_SERIAL ON)
    endif()
  endforeach()
endfunction()

# rf_numa_vm_test(<target>): also run this test binary inside the emulated two-node
# machine (tests/run, with RF_EXPECT_NODES=2 in its environment).
function(rf_numa_vm_test target)
  set_property(GLOBAL APPEND PROPERTY RF_NUMA_VM_TESTS "$<TARGET_FILE:${target}>")
endfunction()
