import { parentPort, workerData } from "node:worker_threads";
import { type AnswerOptions, answerTasks } from "./answer-tasks.ts";
import type { EvalTask } from "./eval-task.ts";
import { loadStudent } from "./load-student.ts";

/** Worker side of answerTasksInWorkers: loads its own copy of the student and answers its share. */
interface Init {
  modelDir: string;
  adapterDir?: string;
  tasks: EvalTask[];
  indices: number[];
  answer: AnswerOptions;
}

const init = workerData.init as Init;
const student = loadStudent(init.modelDir, init.adapterDir);
answerTasks(student, init.tasks, init.indices, init.answer, (a) =>
  parentPort?.postMessage({ type: "answered", answers: a }),
);
parentPort?.postMessage({ type: "done" });
