export { type FetchApp, registerHttpFunction } from "./http-function.js";
export { type PubSubPushOptions, registerPubSubPushFunction } from "./pubsub-push-function.js";
