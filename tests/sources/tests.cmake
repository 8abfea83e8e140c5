# Several sources per run and identity stitching (paths relative to tests/).
jm_add_test(test_identity sources/test_identity.cpp)
jm_add_test(test_sources sources/test_sources.cpp)
jm_add_test(test_taxonomy sources/test_taxonomy.cpp)
jm_add_test(test_dimensions sources/test_dimensions.cpp)
