// Lint rules, including the boundaries of STYLE.md: the core never imports editor or UI packages,
// and its browser-safe part never imports Node built-ins or the runner, store and replay.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const editorPackages = [
  "vscode",
  "vscode-languageserver",
  "vscode-languageserver/*",
  "vscode-languageclient",
  "vscode-languageclient/*",
  "react",
  "react-dom",
  "@xyflow/*",
];
const browserSafe = [
  "core/model/**",
  "core/expr/**",
  "core/graph/**",
  "core/check/**",
  "core/record/**",
  "core/protocol/**",
  "core/service/**",
  "core/index.ts",
];

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      "node_modules/**",
      "schema/**",
      "test/fixtures/**",
      "bench/out/**",
      "*.vsix",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts", "**/*.tsx"],
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      eqeqeq: ["error", "always", { null: "ignore" }],
    },
  },
  {
    files: ["core/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: editorPackages, message: "the core knows nothing about editors or UI" },
          ],
        },
      ],
    },
  },
  {
    files: browserSafe,
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: editorPackages, message: "the core knows nothing about editors or UI" },
            {
              group: ["node:*", "fs", "path", "os", "child_process", "better-sqlite3"],
              message: "this part of the core runs in the browser too",
            },
            {
              group: ["**/runner/**", "**/store/**", "**/replay/**", "**/node/**"],
              message:
                "the browser-safe core cannot import the runner, store, replay or node helpers",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        require: "readonly",
        __dirname: "readonly",
        module: "writable",
        URL: "readonly",
      },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
