jm_add_test(test_model_metrics model/test_model_metrics.cpp)
jm_add_test(test_model model/test_model.cpp)
jm_add_test(test_model_journeys model/test_model_journeys.cpp)
jm_add_test(test_model_bpic2012 model/test_model_bpic2012.cpp)
