import type {
  DeleteItemInput,
  DeleteItemOutput,
  DescribeTableInput,
  DescribeTableOutput,
  DescribeTimeToLiveInput,
  DescribeTimeToLiveOutput,
  GetItemInput,
  GetItemOutput,
  PutItemInput,
  PutItemOutput,
  QueryInput,
  QueryOutput,
  ScanInput,
  ScanOutput,
  TransactWriteItemsInput,
  TransactWriteItemsOutput,
  UpdateItemInput,
  UpdateItemOutput,
} from "@aws-sdk/client-dynamodb";

/**
 * The DynamoDB operations the adapter sends, with their input and output (types only: the SDK's
 * shapes, which are the wire's for what the adapter writes and reads — S and N attribute values,
 * expression strings, cancellation reasons). Output fields the SDK converts (DescribeTable's Date
 * fields, binary B values as Uint8Array) are not read by the adapter.
 */
export interface DynamoOperations {
  DeleteItem: [DeleteItemInput, DeleteItemOutput];
  DescribeTable: [DescribeTableInput, DescribeTableOutput];
  DescribeTimeToLive: [DescribeTimeToLiveInput, DescribeTimeToLiveOutput];
  GetItem: [GetItemInput, GetItemOutput];
  PutItem: [PutItemInput, PutItemOutput];
  Query: [QueryInput, QueryOutput];
  Scan: [ScanInput, ScanOutput];
  TransactWriteItems: [TransactWriteItemsInput, TransactWriteItemsOutput];
  UpdateItem: [UpdateItemInput, UpdateItemOutput];
}

export type DynamoOperation = keyof DynamoOperations;
