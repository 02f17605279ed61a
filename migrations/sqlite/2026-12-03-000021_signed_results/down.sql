DROP TABLE signed_results;
