import { Annotation, END, MemorySaver, START, StateGraph } from "@langchain/langgraph";

/**
 * The baseline: LangGraph JS, a StateGraph of the same chain of nodes doing the same work (each node
 * adds one to a counter), with its MemorySaver checkpointer because our engine checkpoints too.
 */
export function buildLangGraphChain(steps: number) {
  const State = Annotation.Root({ n: Annotation<number>() });
  // LangGraph's builder types track node names literally; a loop-built chain needs the loose form.
  const graph = new StateGraph(State) as unknown as {
    addNode(name: string, fn: (s: { n: number }) => { n: number }): void;
    addEdge(from: string, to: string): void;
    compile(options: { checkpointer: MemorySaver }): {
      invoke(input: { n: number }, config: object): Promise<{ n: number }>;
    };
  };
  for (let i = 0; i < steps; i++) graph.addNode(`s${i}`, (s) => ({ n: s.n + 1 }));
  graph.addEdge(START, "s0");
  for (let i = 1; i < steps; i++) graph.addEdge(`s${i - 1}`, `s${i}`);
  graph.addEdge(`s${steps - 1}`, END);
  const app = graph.compile({ checkpointer: new MemorySaver() });
  return async (thread: string): Promise<number> => {
    const out = await app.invoke(
      { n: 0 },
      { configurable: { thread_id: thread }, recursionLimit: steps + 10 },
    );
    return out.n;
  };
}
