import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";

/**
 * A second reference: a handler that only makes one DynamoDB call, bundled like the real ones; it shows
 * what the AWS SDK alone costs at a cold start.
 */
const client = new DynamoDBClient({
  ...(process.env.AAT_DYNAMODB_ENDPOINT ? { endpoint: process.env.AAT_DYNAMODB_ENDPOINT } : {}),
});

export const handler = async () => {
  const table = await client.send(new DescribeTableCommand({ TableName: process.env.AAT_DYNAMODB_TABLE }));
  return { statusCode: 200, body: table.Table?.TableStatus ?? "" };
};
