# llmhost_maskbench: the MaskBench harness (data, runner, table), shared by bench/maskbench and
# tests/maskbench. Whichever of the two CMake reaches first defines it.
if(NOT TARGET llmhost_maskbench)
  add_library(llmhost_maskbench STATIC
    ${CMAKE_CURRENT_LIST_DIR}/dataset.cpp
    ${CMAKE_CURRENT_LIST_DIR}/runner.cpp
    ${CMAKE_CURRENT_LIST_DIR}/report.cpp
    ${CMAKE_CURRENT_LIST_DIR}/isolate.cpp)
  target_include_directories(llmhost_maskbench PUBLIC ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(llmhost_maskbench PUBLIC llmhost_constraint_tokenizer llmhost_constraint llmhost_tokenizer
                                          PRIVATE nlohmann_json::nlohmann_json)
endif()
