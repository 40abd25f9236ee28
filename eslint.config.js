import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'out/', '.sora-build/', 'coverage/', 'bench/.work/', 'dist/'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bin/*.js', 'scripts/*.js', 'src/review/page/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // The launcher is plain JavaScript (it must run before any TypeScript is loaded): no type information.
    files: ['bin/**/*.js', 'scripts/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The review page's script runs in the browser, as is (no build step): no type information either.
    files: ['src/review/page/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Only the command line and the reporters print (style.md, habit 9).
    files: ['src/cli/**', 'src/reporter/**', 'bench/**', 'bin/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
);
