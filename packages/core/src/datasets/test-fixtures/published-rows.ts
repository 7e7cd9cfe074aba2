/**
 * One realistic row of each published schema the studio recognises: the real field names and
 * types (from the datasets' cards), texts shortened. Shared by the shape tests here, the
 * format-parity tests in @distillery/datasets and the e2e specs.
 */

/** Stratos/OpenThoughts put one long instruction in `system` on every row (~1.4k tokens there). */
export const STRATOS_SYSTEM = [
  "Your role as an assistant involves thoroughly exploring questions through a systematic long thinking process before providing the final precise and accurate solutions.",
  "This requires engaging in a comprehensive cycle of analysis, summarizing, exploration, reassessment, reflection, backtracing, and iteration to develop a well-considered thinking process.",
  "Please structure your response into two main sections: Thought and Solution.",
  "In the Thought section, detail your reasoning process using the specified format: <|begin_of_thought|> {thought with steps separated with '\\n\\n'} <|end_of_thought|>",
  "Each step should include detailed considerations such as analysing questions, summarizing relevant findings, brainstorming new ideas, verifying the accuracy of the current steps, refining any errors, and revisiting previous steps.",
  "In the Solution section, based on various attempts, explorations, and reflections from the Thought section, systematically present the final solution that you deem correct.",
  "The solution should remain a logical, accurate, concise expression style and detail necessary step needed to reach the conclusion, formatted as follows: <|begin_of_solution|> {final formatted, precise, and clear solution} <|end_of_solution|>",
  "Now, try to solve the following question through the above guidelines:",
].join(" ");

export const STRATOS_ROW = {
  system: STRATOS_SYSTEM,
  conversations: [
    { from: "user", value: "Return your final response within \\boxed{}. What is $2+3\\cdot 4$?" },
    {
      from: "assistant",
      value:
        "<|begin_of_thought|>\n\nOkay, multiplication comes first: 3 times 4 is 12.\n\nThen 2 plus 12 is 14.\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\nBy the order of operations, $2+3\\cdot 4 = 2+12 = \\boxed{14}$.\n\n<|end_of_solution|>",
    },
  ],
};

export const S1K_ROW = {
  solution: "1. Note that $x^2-1=(x-1)(x+1)$.\n2. Hence the roots are $\\pm 1$.",
  question: "Find all real roots of $x^2 - 1 = 0$.",
  cot_type: "math",
  source_type: "AI-MO/NuminaMath-CoT/aops_forum",
  metadata: "{'source': 'aops_forum', 'messages': []}",
  cot: null,
  thinking_trajectories: [
    "I need the roots of x^2 - 1. This factors as (x - 1)(x + 1), so x = 1 or x = -1. Check: 1 - 1 = 0.",
  ],
  attempt: "Factor: $(x-1)(x+1)=0$, so $x=1$ or $x=-1$.",
};

export const MAGPIE_ROW = {
  uuid: "e0f7a0ad-3f0b-5d2b-8a5b-0f4a6e1c2d3e",
  instruction: "What is the sum of the interior angles of a hexagon?",
  response:
    "<think>\nA polygon with n sides has interior angles summing to (n-2)*180. For n = 6 that is 720.\n</think>\n\nThe interior angles of a hexagon sum to **720°**.",
  conversations: [
    { from: "human", value: "What is the sum of the interior angles of a hexagon?" },
    {
      from: "gpt",
      value:
        "<think>\nA polygon with n sides has interior angles summing to (n-2)*180. For n = 6 that is 720.\n</think>\n\nThe interior angles of a hexagon sum to **720°**.",
    },
  ],
  gen_input_configs: { temperature: 1.0, top_p: 1.0, input_generator: "meta-llama/Llama-3.3-70B-Instruct" },
  gen_response_configs: { prompt: "<|begin_of_sentence|>...", temperature: 0, max_tokens: 8192 },
  intent: "The user wants to know a geometry fact",
  knowledge: "The model needs the polygon angle-sum formula",
  difficulty: "easy",
  difficulty_generator: "meta-llama/Llama-3.3-70B-Instruct",
  input_quality: "good",
  quality_explanation: "The query is clear and specific.",
  quality_generator: "meta-llama/Llama-3.3-70B-Instruct",
  task_category: "Math",
  other_task_category: ["Information seeking"],
  task_category_generator: "meta-llama/Llama-3.3-70B-Instruct",
  language: "EN",
};

export const OPENAI_REASONING_ROW = {
  messages: [
    { role: "system", content: "You are a careful assistant." },
    { role: "user", content: "Is 91 prime?" },
    {
      role: "assistant",
      content: "No: 91 = 7 × 13.",
      reasoning_content: "91 is odd; 91 / 7 = 13 exactly, so it has divisors 7 and 13.",
    },
  ],
};

export const OPENR1_MATH_ROW = {
  problem: "Let $a+b=5$ and $ab=6$. Find $a^2+b^2$.",
  solution: "$a^2+b^2=(a+b)^2-2ab=25-12=13$.",
  answer: "13",
  problem_type: "Algebra",
  question_type: "math-word-problem",
  source: "olympiads",
  uuid: "5b3f1f0e-8a4a-5c55-9f55-3c0c8b9c1a11",
  is_reasoning_complete: [true, true],
  generations: [
    "<think>\nWe know (a+b)^2 = a^2 + 2ab + b^2, so a^2+b^2 = 25 - 12 = 13.\n</think>\n\n$a^2+b^2 = \\boxed{13}$",
    "<think>\nRoots of t^2-5t+6: 2 and 3; 4 + 9 = 13.\n</think>\n\n\\boxed{13}",
  ],
  correctness_math_verify: [true, true],
  correctness_llama: null,
  finish_reasons: null,
  correctness_count: 2,
  messages: [
    {
      role: "user",
      content: "Let $a+b=5$ and $ab=6$. Find $a^2+b^2$.",
    },
    {
      role: "assistant",
      content:
        "<think>\nWe know (a+b)^2 = a^2 + 2ab + b^2, so a^2+b^2 = 25 - 12 = 13.\n</think>\n\n$a^2+b^2 = \\boxed{13}$",
    },
  ],
};

export const NUMINAMATH_ROW = {
  source: "synthetic_math",
  problem: "Compute $\\dbinom{5}{2}$.",
  solution: "$\\dbinom{5}{2} = \\frac{5 \\cdot 4}{2} = \\boxed{10}$.",
  messages: [
    { role: "user", content: "Compute $\\dbinom{5}{2}$." },
    { role: "assistant", content: "$\\dbinom{5}{2} = \\frac{5 \\cdot 4}{2} = \\boxed{10}$." },
  ],
};

export const ALPACA_ROW = {
  instruction: "Give three tips for staying healthy.",
  input: "",
  output: "1. Eat a balanced diet.\n2. Exercise regularly.\n3. Sleep enough.",
  text: "Below is an instruction that describes a task. ...",
};

/** OpenThoughts-114k's `metadata` config: R1's reasoning and solution in their own columns. */
export const OPENTHOUGHTS_METADATA_ROW = {
  problem: "How many positive divisors does 12 have?",
  deepseek_reasoning: "12 = 2^2 * 3, so (2+1)(1+1) = 6 divisors.",
  deepseek_solution: "12 has $\\boxed{6}$ positive divisors.",
  ground_truth_solution: "6",
  domain: "math",
  source: "numina_math",
  test_cases: null,
  starter_code: null,
};

/** Every shape with its expected name, prompt, reasoning and answer. */
export const PUBLISHED_SHAPES = [
  {
    name: "Bespoke-Stratos-17k",
    row: STRATOS_ROW,
    shape: "sharegpt",
    prompt: STRATOS_ROW.conversations[0]?.value,
    reasoning: "Okay, multiplication comes first: 3 times 4 is 12.\n\nThen 2 plus 12 is 14.",
    answer: "By the order of operations, $2+3\\cdot 4 = 2+12 = \\boxed{14}$.",
    system: STRATOS_SYSTEM,
  },
  {
    name: "s1K",
    row: S1K_ROW,
    shape: "s1k",
    prompt: S1K_ROW.question,
    reasoning: S1K_ROW.thinking_trajectories[0],
    answer: S1K_ROW.attempt,
    reference: S1K_ROW.solution,
  },
  {
    name: "Magpie-Reasoning-V2",
    row: MAGPIE_ROW,
    shape: "magpie",
    prompt: MAGPIE_ROW.instruction,
    reasoning: "A polygon with n sides has interior angles summing to (n-2)*180. For n = 6 that is 720.",
    answer: "The interior angles of a hexagon sum to **720°**.",
  },
  {
    name: "OpenAI messages with reasoning_content",
    row: OPENAI_REASONING_ROW,
    shape: "openai",
    prompt: "Is 91 prime?",
    reasoning: "91 is odd; 91 / 7 = 13 exactly, so it has divisors 7 and 13.",
    answer: "No: 91 = 7 × 13.",
    system: "You are a careful assistant.",
  },
  {
    name: "OpenR1-Math-220k",
    row: OPENR1_MATH_ROW,
    shape: "openr1-math",
    prompt: OPENR1_MATH_ROW.problem,
    reasoning: "We know (a+b)^2 = a^2 + 2ab + b^2, so a^2+b^2 = 25 - 12 = 13.",
    answer: "$a^2+b^2 = \\boxed{13}$",
    reference: "13",
  },
  {
    name: "NuminaMath-CoT",
    row: NUMINAMATH_ROW,
    shape: "numinamath",
    prompt: NUMINAMATH_ROW.problem,
    reasoning: null,
    answer: NUMINAMATH_ROW.solution,
  },
  {
    name: "Alpaca",
    row: ALPACA_ROW,
    shape: "alpaca",
    prompt: ALPACA_ROW.instruction,
    reasoning: null,
    answer: ALPACA_ROW.output,
  },
  {
    name: "OpenThoughts-114k metadata",
    row: OPENTHOUGHTS_METADATA_ROW,
    shape: "r1",
    prompt: OPENTHOUGHTS_METADATA_ROW.problem,
    reasoning: OPENTHOUGHTS_METADATA_ROW.deepseek_reasoning,
    answer: OPENTHOUGHTS_METADATA_ROW.deepseek_solution,
    reference: "6",
  },
] as const;
