/** The subset of caffe.proto (BVLC Caffe, BSD-2) that holds trained weights, for protobufjs. */
export const CAFFE_PROTO = `
syntax = "proto2";
package caffe;
message BlobShape { repeated int64 dim = 1 [packed = true]; }
message BlobProto {
  optional BlobShape shape = 7;
  repeated float data = 5 [packed = true];
  repeated double double_data = 8 [packed = true];
  optional int32 num = 1 [default = 0];
  optional int32 channels = 2 [default = 0];
  optional int32 height = 3 [default = 0];
  optional int32 width = 4 [default = 0];
}
message LayerParameter {
  optional string name = 1;
  optional string type = 2;
  repeated BlobProto blobs = 7;
}
message V1LayerParameter {
  optional string name = 4;
  optional int32 type = 5;
  repeated BlobProto blobs = 6;
}
message NetParameter {
  optional string name = 1;
  repeated LayerParameter layer = 100;
  repeated V1LayerParameter layers = 2;
}
`;
