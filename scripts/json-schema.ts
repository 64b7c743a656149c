// The format's JSON Schema, generated from the one zod definition.
import { z } from "zod";
import { Workflow } from "@keel/core/model/schema";

export function renderJsonSchema(): string {
  const schema = z.toJSONSchema(Workflow, { target: "draft-7", io: "input" });
  const withId = {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "Keel workflow",
    ...schema,
  };
  return JSON.stringify(withId, null, 2) + "\n";
}
