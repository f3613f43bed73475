"""The Step Functions API over HTTP (awsJson1.0), for boto3 and the AWS CLI.

A thin layer: decode the request, check its signature, call the library's
``StepFunctionsApi`` (the same the command line's verbs call), encode the answer.
"""
