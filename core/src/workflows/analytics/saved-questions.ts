import { z } from "zod";
import type { KeyValue } from "../../ports/kv.js";
import { chartSpecSchema } from "./chart.js";

export const savedQuestionInputSchema = z
  .strictObject({
    datasourceId: z.string().min(1).max(63),
    title: z.string().trim().min(1, "must not be empty").max(200),
    question: z
      .string()
      .max(4000)
      .optional()
      .describe("The words the SQL answers, when it came from a question"),
    sql: z.string().trim().min(1, "must not be empty").max(100_000),
    chart: chartSpecSchema.optional(),
  })
  .meta({ id: "SavedQuestionCreate" });
export type SavedQuestionInput = z.output<typeof savedQuestionInputSchema>;

export const savedQuestionSchema = savedQuestionInputSchema
  .extend({ id: z.string(), createdAt: z.number().int(), createdBy: z.string() })
  .meta({ id: "SavedQuestion" });
export type SavedQuestion = z.output<typeof savedQuestionSchema>;

const PREFIX = "analytics/questions/";

/** Saved questions with their SQL and chart, in the KeyValue store; listed newest first. */
export class SavedQuestions {
  constructor(
    private readonly kv: KeyValue,
    private readonly now: () => number = Date.now,
  ) {}

  async create(input: SavedQuestionInput, createdBy: string): Promise<SavedQuestion> {
    const createdAt = this.now();
    // Keys sort by creation time (inverted, so the newest lists first), then a random suffix.
    const id = `${(Number.MAX_SAFE_INTEGER - createdAt).toString(36).padStart(11, "0")}-${crypto.randomUUID().slice(0, 8)}`;
    const question: SavedQuestion = { ...input, id, createdAt, createdBy };
    await this.kv.set(PREFIX + id, question);
    return question;
  }

  async list(datasourceId?: string): Promise<SavedQuestion[]> {
    const out: SavedQuestion[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.kv.list<SavedQuestion>(PREFIX, cursor === undefined ? {} : { cursor });
      out.push(...page.entries.map((entry) => entry.value));
      cursor = page.cursor;
    } while (cursor !== undefined);
    const sorted = out.sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
    return datasourceId === undefined ? sorted : sorted.filter((q) => q.datasourceId === datasourceId);
  }

  async get(id: string): Promise<SavedQuestion | undefined> {
    return (await this.kv.get<SavedQuestion>(PREFIX + id))?.value;
  }

  delete(id: string): Promise<boolean> {
    return this.kv.delete(PREFIX + id);
  }
}
